// @fastify/cookie loads the ESM-only `cookie` with import() from CommonJS, which Jest on Node 20
// cannot do; Jest maps `cookie` here, and this loads the same package compiled to CommonJS.
module.exports = require('../../../node_modules/cookie/dist/index.js');
