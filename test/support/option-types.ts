/**
 * The option keys a factory's options type documents, read from its source with the TypeScript
 * checker (inherited members included). A test builds a valid options object naming each of
 * them and checks the factory accepts it, so a key missing from the factory's allowed list —
 * which would refuse a documented option as unknown — fails the test.
 */
import ts from 'typescript';

/**
 * The property names of the exported interface or type alias `typeName` in `file` (an absolute
 * path), sorted.
 */
export function documentedOptionKeys(file: string, typeName: string): string[] {
  const program = ts.createProgram([file], { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, customConditions: ['steadyfn-source'], skipLibCheck: true, types: [] });
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
