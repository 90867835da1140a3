import type { ObjectLiteral } from 'typeorm';
import type { TestApp } from './test-app';

/**
 * Rows written straight to `entity`'s table, `perInsert` per INSERT (keep it under both databases'
 * bind-parameter limits: 500 audit rows, 200 users).
 */
export async function insertRows<T extends ObjectLiteral>(
  t: TestApp,
  entity: new () => T,
  rows: Partial<T>[],
  perInsert: number,
): Promise<void> {
  for (let start = 0; start < rows.length; start += perInsert) {
    await t.dataSource
      .createQueryBuilder()
      .insert()
      .into(entity)
      .values(rows.slice(start, start + perInsert) as T[])
      .execute();
  }
}

/** A list endpoint's answer: a page of `data`, and `next` while more pages follow. */
export interface PagedAnswer<T> {
  data: T[];
  next?: string;
}

/** Every item from the first page on, following `next` as `cursor`; `between` runs after each page. */
export async function walkPages<T>(
  list: (query: string) => Promise<PagedAnswer<T>>,
  filters: string,
  between: () => Promise<void> = async () => {},
): Promise<T[]> {
  const seen: T[] = [];
  let answer = await list(filters);
  seen.push(...answer.data);
  while (answer.next) {
    await between();
    answer = await list(`${filters}&cursor=${answer.next}`);
    seen.push(...answer.data);
  }
  return seen;
}
