/**
 * better-sqlite3 for an audit writer's thread under test (AuditWriterOptions.driver): each
 * connection it opens also runs the pragmas sent on the BroadcastChannel named after its file
 * (see probed-sqlite.ts), since a connection's own settings (synchronous, max_page_count) can be
 * read or changed on that connection alone.
 */
const { BroadcastChannel } = require('node:worker_threads');
const Database = require('better-sqlite3');

function ProbedDatabase(file, options) {
  const db = new Database(file, options);
  const channel = new BroadcastChannel(`probed-sqlite:${file}`);
  channel.unref();
  channel.onmessage = ({ data }) => {
    if (!('pragma' in data)) return;
    try {
      channel.postMessage({ id: data.id, result: db.pragma(data.pragma, { simple: true }) });
    } catch (error) {
      channel.postMessage({ id: data.id, error: error.message });
    }
  };
  return db;
}

module.exports = ProbedDatabase;
