import { ValueTransformer } from 'typeorm';

/** Epoch milliseconds live in BIGINT columns; PostgreSQL hands them back as strings. */
export const epochMillis: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};
