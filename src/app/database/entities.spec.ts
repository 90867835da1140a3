import { TOKEN_SERVICE_ENTITIES } from '../../schema';
import { SessionEntity } from '../auth/entities/session.entity';
import { STANDALONE_ENTITIES } from './database.module';

describe('the entities of a data source', () => {
  it("gives a host TokenModule's entities, without the standalone login's sessions", () => {
    expect(TOKEN_SERVICE_ENTITIES).not.toContain(SessionEntity);
  });

  it('gives the standalone service every entity of the module, and its sessions', () => {
    expect(STANDALONE_ENTITIES).toEqual([...TOKEN_SERVICE_ENTITIES, SessionEntity]);
  });
});
