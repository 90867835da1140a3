import type { EntityManager, FindOptionsWhere, ObjectLiteral } from 'typeorm';
import type { SecretBox } from '../../secrets/secret-box';
import { KEY_CHECK_COLUMN, type SealedColumn, SEALED_COLUMNS } from './sealed-columns';

/** How often one row is read again after a concurrent write changed it under the rotation. */
const MAX_ATTEMPTS = 10;

export interface ResealCount {
  /** Values re-sealed under the current key. */
  resealed: number;
  /** Values found already under it (sealed since, or by an earlier run). */
  current: number;
}

/**
 * Re-seals every value of `column` that is not under `box`'s current key, opening it with any of
 * its keys. Each UPDATE is conditional on the value still being the one read, so a concurrent
 * write (a `token/update` on a running instance, which seals under the current key) is never
 * overwritten: the row is read again and, if still under an old key, re-sealed again. Outside a
 * transaction every UPDATE commits on its own (the online rotation); inside one, `lock` holds the
 * rows (the offline rotation). A table that no migration has created yet has nothing to re-seal.
 */
export async function resealColumn(
  manager: EntityManager,
  { entity, column, context }: SealedColumn,
  box: SecretBox,
  lock?: { mode: 'pessimistic_write' },
): Promise<ResealCount> {
  const count: ResealCount = { resealed: 0, current: 0 };
  const rows = manager.getRepository(entity);
  if (!(await hasTable(manager, rows.metadata.tablePath))) return count;
  for (let row of await rows.find(lock ? { lock } : {})) {
    for (let attempt = 1; ; attempt++) {
      const value = row[column] as string | null;
      if (value === null) break; // nothing sealed on this row (a nullable column)
      if (box.isCurrent(value, context(row))) {
        count.current += 1;
        break;
      }
      const id = rows.metadata.getEntityIdMap(row) as FindOptionsWhere<ObjectLiteral>;
      const resealed = box.seal(box.open(value, context(row)), context(row));
      const { affected } = await rows.update({ ...id, [column]: value }, { [column]: resealed });
      if (affected) {
        count.resealed += 1;
        break;
      }
      if (attempt === MAX_ATTEMPTS)
        throw new Error(
          `a row of ${rows.metadata.tableName} kept changing: run the rotation again`,
        );
      const again = await rows.findOneBy(id);
      if (!again) break; // deleted meanwhile: nothing left to re-seal
      row = again;
    }
  }
  return count;
}

async function hasTable(manager: EntityManager, table: string): Promise<boolean> {
  const runner = manager.queryRunner ?? manager.connection.createQueryRunner();
  try {
    return await runner.hasTable(table);
  } finally {
    if (!manager.queryRunner) await runner.release();
  }
}

/**
 * Re-seals every column of SEALED_COLUMNS, then the key check, under `box`'s current key; answers
 * the secrets' counts (the key check is not one).
 */
export async function resealAll(
  manager: EntityManager,
  box: SecretBox,
  lock?: { mode: 'pessimistic_write' },
): Promise<ResealCount> {
  const total: ResealCount = { resealed: 0, current: 0 };
  for (const column of SEALED_COLUMNS) {
    const count = await resealColumn(manager, column, box, lock);
    total.resealed += count.resealed;
    total.current += count.current;
  }
  await resealColumn(manager, KEY_CHECK_COLUMN, box, lock);
  return total;
}
