// The tarball that `npm pack` makes ships the library's manifest, not the service's.
//
// package.json is the service's manifest: `dependencies` are what `npm ci --omit=dev` installs to run
// dist/main.js. A host that installs the tarball brings Nest, TypeORM and the rest itself
// (`peerDependencies`) and gets only the library's own dependencies, never Fastify, pino or a driver.
//
//   node scripts/library-manifest.js swap     (prepack)  package.json -> the library's manifest
//   node scripts/library-manifest.js restore  (postpack) the service's manifest back
//
// The service's manifest waits in .package.service.json meanwhile; a pack that died half-way
// leaves it there, and the next swap or restore puts it back first.
const { existsSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const MANIFEST = join(ROOT, 'package.json');
const SAVED = join(ROOT, '.package.service.json');

/** Packages the library itself requires that are not peers (the service's versions are shipped). */
const LIBRARY_DEPENDENCIES = ['prom-client'];
/** Fields of the service's manifest that the library's manifest keeps as they are. */
const KEPT = [
  'name', 'version', 'description', 'license', 'private', 'main', 'types', 'exports', 'files',
  'engines', 'peerDependencies', 'peerDependenciesMeta',
];

function restore() {
  if (existsSync(SAVED)) renameSync(SAVED, MANIFEST);
}

/** The library's manifest, made from the service's (`service`, package.json's content). */
function libraryManifest(service) {
  const library = {};
  for (const field of KEPT) if (field in service) library[field] = service[field];
  library.dependencies = {};
  for (const name of LIBRARY_DEPENDENCIES) {
    if (!service.dependencies?.[name]) throw new Error(`package.json: ${name} is not in dependencies`);
    library.dependencies[name] = service.dependencies[name];
  }
  for (const name of Object.keys(service.peerDependencies ?? {})) {
    if (!service.dependencies?.[name]) throw new Error(`package.json: peer ${name} is not in dependencies`);
  }
  return library;
}

function swap() {
  restore();
  const library = libraryManifest(JSON.parse(readFileSync(MANIFEST, 'utf8')));
  renameSync(MANIFEST, SAVED);
  writeFileSync(MANIFEST, `${JSON.stringify(library, null, 2)}\n`);
}

// Required (by the package layout test), it only lends libraryManifest.
module.exports = { libraryManifest };

if (require.main === module) {
  const command = process.argv[2];
  if (command === 'swap') swap();
  else if (command === 'restore') restore();
  else throw new Error('usage: node scripts/library-manifest.js swap|restore');
}
