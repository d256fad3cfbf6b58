// Lint rules, and the layering of the code base as import rules: each folder may import
// only the layers below it (CONTRIBUTING.md draws the map). A layer crossing is a lint
// error, so review is not the only thing that keeps compiler and runtime apart.
import tseslint from 'typescript-eslint';

/** Import specifiers that reach into a top-level folder, from any depth. */
const into = (...folders) => folders.map((f) => `**/${f}/**`);
const heavy = ['binaryen', 'wabt', 'yargs', '@grpc/*'];

/** folder -> the top-level folders and packages it must not import. */
const layers = {
  core: { folders: ['compiler', 'runtime', 'native', 'katran', 'datapath', 'packets', 'cli'], packages: heavy },
  compiler: { folders: ['runtime', 'native', 'katran', 'datapath', 'packets', 'cli'], packages: ['binaryen', 'yargs', '@grpc/*'] },
  'compiler/binaryen*.ts': { folders: ['runtime', 'native', 'katran', 'datapath', 'packets', 'cli'], packages: ['yargs', '@grpc/*'] },
  runtime: { folders: ['compiler', 'native', 'katran', 'datapath', 'cli'], packages: ['binaryen', 'wabt', 'yargs', '@grpc/*'] },
  packets: { folders: ['compiler', 'runtime', 'native', 'katran', 'datapath', 'cli'], packages: heavy },
  native: { folders: ['compiler', 'runtime', 'katran', 'datapath', 'packets', 'cli'], packages: heavy },
  katran: { folders: ['compiler', 'datapath', 'cli'], packages: ['binaryen', 'wabt', 'yargs'] },
  datapath: { folders: ['compiler', 'cli'], packages: ['binaryen', 'wabt', 'yargs'] },
  bench: { folders: ['test'], packages: [] },
  examples: { folders: ['test'], packages: [] },
};

export default tseslint.config(
  { ignores: ['dist/**', '.test-build/**', 'build/**', 'node_modules/**', 'native/build/**', 'bin/**', 'scripts/**', 'eslint.config.js'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration[const=true]', message: 'const enums do not survive isolated builds' },
      ],
    },
  },
  ...Object.entries(layers).map(([folder, { folders, packages }]) => ({
    files: [folder.endsWith('.ts') ? folder : `${folder}/**/*.ts`],
    // One place loads binaryen (compiler/binaryen-load.ts, with compiler/binaryen.ts naming
    // its types); codegen (compiler/codegen*.ts) speaks it through compiler/binaryen.ts.
    ...(folder === 'compiler' ? { ignores: ['compiler/binaryen*.ts'] } : {}),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: into(...folders),
              message: `${folder}/ may not import ${folders.join(', ')} (see CONTRIBUTING.md, "Which way imports go")`,
            },
            ...(packages.length ? [{ group: packages, message: `${folder}/ must not load ${packages.join(', ')}` }] : []),
          ],
        },
      ],
    },
  })),
);
