import { DataSource } from 'typeorm';
import { epochSeconds } from '../../database/columns';
import { TokenRevocation1764500000000 } from '../../database/migrations/1764500000000-token-revocation';
import { RevokedTokenEntity } from './revoked-token.entity';
import { TokenCutoffEntity } from './token-cutoff.entity';

describe('TokenCutoffEntity', () => {
  let dataSource: DataSource;

  beforeEach(async () => {
    dataSource = await new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: [TokenCutoffEntity, RevokedTokenEntity],
      migrations: [TokenRevocation1764500000000],
      migrationsRun: true,
    }).initialize();
  });
  afterEach(() => dataSource.destroy());

  it('reads issued_before back as the epoch seconds written', async () => {
    const cutoffs = dataSource.getRepository(TokenCutoffEntity);
    await cutoffs.save({
      configName: 'ERP',
      issuedBefore: 1_800_000_000,
      createdDate: 1_800_000_000_123,
    });
    expect(await cutoffs.findOneByOrFail({ configName: 'ERP' })).toEqual({
      configName: 'ERP',
      issuedBefore: 1_800_000_000,
      createdDate: 1_800_000_000_123,
    });
    const [stored] = await dataSource.query('SELECT issued_before FROM token_cutoffs');
    expect(stored).toEqual({ issued_before: 1_800_000_000 });
  });

  it('reads issued_before as epoch seconds, from the string PostgreSQL gives a BIGINT as too', () => {
    const column = dataSource
      .getMetadata(TokenCutoffEntity)
      .findColumnWithPropertyName('issuedBefore');
    expect(column?.transformer).toBe(epochSeconds);
    expect(epochSeconds.from('1800000000')).toBe(1_800_000_000);
    expect(epochSeconds.to(1_800_000_000)).toBe(1_800_000_000);
  });
});
