import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(process.cwd());
const manifest = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, { types: string; default: string } | string>;
};

/** The packages a bare `require` of `entry` (a path or the package's own name) loads, in a fresh process. */
function packagesLoadedBy(entry: string): string[] {
  const script = `
    const before = new Set(Object.keys(require.cache));
    require(${JSON.stringify(entry)});
    const names = new Set();
    for (const file of Object.keys(require.cache)) {
      if (before.has(file)) continue;
      const found = file.match(/node_modules\\/(@[^/]+\\/)?[^/]+/g);
      names.add(found ? found[found.length - 1].slice('node_modules/'.length) : file);
    }
    process.stdout.write(JSON.stringify([...names]));`;
  return JSON.parse(
    execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' }),
  );
}

/** The manifest `npm pack` ships (scripts/library-manifest.js), made from package.json. */
function libraryManifest(): { dependencies: object; peerDependencies: object } {
  const script =
    "const { libraryManifest } = require('./scripts/library-manifest.js');" +
    "process.stdout.write(JSON.stringify(libraryManifest(require('./package.json'))));";
  return JSON.parse(
    execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' }),
  );
}

/** The library's declaration files in dist, by path from dist: not the standalone service's. */
function libraryDeclarations(): string[] {
  const dist = resolve(ROOT, 'dist');
  return (readdirSync(dist, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.d.ts') && !file.includes('.spec.'))
    .filter((file) => !/^(app|config)\//.test(file) && file !== 'main.d.ts');
}

/** The modules a declaration file names: `from '...'`, `import('...')`, `/// <reference types>`. */
function specifiersIn(text: string): string[] {
  const pattern =
    /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|<reference\s+types=)['"]([^'"]+)['"]/g;
  return [...text.matchAll(pattern)].map((match) => match[1]);
}

describe('the package a host installs', () => {
  it('packs the built library, its README and licence, and no sources, tests or specs', () => {
    // --ignore-scripts: `npm test` has built dist already; the prepack build is covered by package-hosts.
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: ROOT,
        encoding: 'utf8',
      }),
    ) as [{ files: { path: string }[] }];
    const files = packed.files.map((file) => file.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'LICENSE',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/app/index.js',
        'dist/app/index.d.ts',
        'dist/main.js',
      ]),
    );
    expect(files.filter((file) => !file.startsWith('dist/'))).toEqual(
      expect.arrayContaining(['package.json', 'README.md', 'LICENSE']),
    );
    expect(files.filter((file) => !file.startsWith('dist/'))).toHaveLength(3);
    expect(files.filter((file) => /\.spec\.|\.map$|tsbuildinfo/.test(file))).toEqual([]);
  });

  it('maps the library and the standalone app to built files with their types', () => {
    expect(manifest.exports['.']).toEqual({
      types: './dist/index.d.ts',
      default: './dist/index.js',
    });
    expect(manifest.exports['./app']).toEqual({
      types: './dist/app/index.d.ts',
      default: './dist/app/index.js',
    });
    const resolved = execFileSync(
      process.execPath,
      [
        '-p',
        "[require.resolve('datafor-token-service'), require.resolve('datafor-token-service/app')].join(' ')",
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(resolved.trim()).toBe(`${ROOT}/dist/index.js ${ROOT}/dist/app/index.js`);
  });

  it('loads none of the standalone service when a host imports the library', () => {
    const loaded = packagesLoadedBy('datafor-token-service');
    expect(loaded).toEqual(expect.arrayContaining(['@nestjs/core', '@nestjs/typeorm']));
    // The standalone service is src/app and its settings src/config: none of their files.
    expect(
      loaded.filter((file) => /^dist\/(app|config)\//.test(file.slice(ROOT.length + 1))),
    ).toEqual([]);
    for (const serviceOnly of [
      'pino',
      'ioredis',
      'rate-limiter-flexible',
      '@fastify/rate-limit',
      '@nestjs/platform-fastify',
      'fastify',
      '@nestjs/terminus',
      '@nestjs/config',
      'better-sqlite3',
      'pg',
    ]) {
      expect(loaded).not.toContain(serviceOnly);
    }
  });

  it("types the library with the packages its manifest names only, and none of the service's files", () => {
    const manifest = libraryManifest();
    const packages = new Set([
      ...Object.keys(manifest.dependencies),
      ...Object.keys(manifest.peerDependencies),
    ]);
    const declarations = libraryDeclarations();
    expect(declarations).toEqual(expect.arrayContaining(['index.d.ts', 'token/token.module.d.ts']));
    const strays = declarations.flatMap((file) =>
      specifiersIn(readFileSync(resolve(ROOT, 'dist', file), 'utf8'))
        .filter((specifier) => {
          if (specifier.startsWith('.')) {
            return /^(app|config)(\/|$)|^main$/.test(join(dirname(file), specifier));
          }
          const name = specifier
            .split('/')
            .slice(0, specifier.startsWith('@') ? 2 : 1)
            .join('/');
          return !packages.has(name) && !builtinModules.includes(name.replace(/^node:/, ''));
        })
        .map((specifier) => `${file}: ${specifier}`),
    );
    expect(strays).toEqual([]);
  });

  it('keeps the standalone service behind datafor-token-service/app', () => {
    const loaded = packagesLoadedBy('datafor-token-service/app');
    expect(loaded).toEqual(
      expect.arrayContaining([`${ROOT}/dist/app/app.module.js`, 'pino', '@nestjs/terminus']),
    );
  });
});
