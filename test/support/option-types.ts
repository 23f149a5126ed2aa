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
// One program per package (from its src/index.ts, which reaches every public options type).
const programs = new Map<string, ts.Program>();

function programFor(file: string): ts.Program {
  let dir = dirname(file);
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  let program = programs.get(dir);
  if (program === undefined || program.getSourceFile(file) === undefined) {
    const index = join(dir, 'src', 'index.ts');
    program = ts.createProgram(existsSync(index) ? [index, file] : [file], OPTIONS);
    programs.set(dir, program);
  }
  return program;
}

/**
 * The property names of the exported interface or type alias `typeName` in `file` (an absolute
 * path), sorted.
 */
export function documentedOptionKeys(file: string, typeName: string): string[] {
  const program = programFor(file);
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
