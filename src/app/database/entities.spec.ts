import { TOKEN_SERVICE_ENTITIES, TOKEN_SERVICE_MIGRATIONS } from '../../schema';
import { SessionEntity } from '../auth/entities/session.entity';
import { STANDALONE_ENTITIES, STANDALONE_MIGRATIONS } from './database.module';
import { Sessions1765500000000 } from './migrations/1765500000000-sessions';

describe('the entities and migrations of a data source', () => {
  it("gives a host TokenModule's entities and migrations, without the standalone login's sessions", () => {
    expect(TOKEN_SERVICE_ENTITIES).not.toContain(SessionEntity);
    expect(TOKEN_SERVICE_MIGRATIONS).not.toContain(Sessions1765500000000);
  });

  it('gives the standalone service every entity and migration of the module, and its sessions', () => {
    expect(STANDALONE_ENTITIES).toEqual([...TOKEN_SERVICE_ENTITIES, SessionEntity]);
    expect(STANDALONE_MIGRATIONS).toEqual([...TOKEN_SERVICE_MIGRATIONS, Sessions1765500000000]);
  });
});
