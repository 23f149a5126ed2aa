/**
 * The option keys a factory's options type documents, read from its source with the TypeScript
 * checker (inherited members included). A test builds a valid options object naming each of
 * them and checks the factory accepts it, so a key missing from the factory's allowed list —
 * which would refuse a documented option as unknown — fails the test.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';

const OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  customConditions: ['steadyfn-source'],
  skipLibCheck: true,
  types: [],
};
// One program per package (from its src/index.ts, which reaches every public options type). A
// file it does not reach (a per-driver entry) makes a new program with more roots; the source
// files programs share (lib, @types/node, the drivers' and the SDK's declarations) are parsed
// once per process, through one host, instead of once per program. Made per test, anew for each
// driver entry, the programs took 7-22 s a test in a loaded run of a package's tests, near the
// 30 s a test has: `loadOptionTypes` makes the one program ahead, in a hook with its own timeout.
const programs = new Map<string, ts.Program>();
const parsed = new Map<string, ts.SourceFile | undefined>();
const host = ts.createCompilerHost(OPTIONS, true);
const parse = host.getSourceFile.bind(host);
host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
  const key = `${fileName}\u0000${JSON.stringify(languageVersion)}`;
  if (!parsed.has(key)) parsed.set(key, parse(fileName, languageVersion, onError, shouldCreate));
  return parsed.get(key);
};

/** The program of the package holding `files` (absolute paths, one package's), made to hold every one of them. */
function programFor(files: string[]): ts.Program {
  let dir = dirname(files[0]!);
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  let program = programs.get(dir);
  if (program === undefined || files.some((file) => program!.getSourceFile(file) === undefined)) {
    const index = join(dir, 'src', 'index.ts');
    const roots = new Set(program === undefined ? (existsSync(index) ? [index] : []) : program.getRootFileNames());
    for (const file of files) roots.add(file);
    program = ts.createProgram([...roots], OPTIONS, host);
    programs.set(dir, program);
  }
  return program;
}

/**
 * Reads `files` (absolute paths of one package's sources) ahead, in one program, so that the
 * tests reading their options types do not pay for it. Call it from a `beforeAll` given a
 * timeout: on a loaded machine this is the seconds-long part (up to 22 s a file was seen).
 */
export function loadOptionTypes(files: string[]): void {
  // The checker binds every file of the program when it is made: part of the work too.
  if (files.length > 0) programFor(files).getTypeChecker();
}

/**
 * The property names of the exported interface or type alias `typeName` in `file` (an absolute
 * path), sorted.
 */
export function documentedOptionKeys(file: string, typeName: string): string[] {
  const program = programFor([file]);
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  if (source === undefined) throw new Error(`documentedOptionKeys: cannot read ${file}`);
  for (const statement of source.statements) {
    if ((ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) && statement.name.text === typeName) {
      const type = checker.getTypeAtLocation(statement.name);
      return checker
        .getPropertiesOfType(type)
        .map((p) => p.getName())
        .sort();
    }
  }
  throw new Error(`documentedOptionKeys: no type ${typeName} in ${file}`);
}
