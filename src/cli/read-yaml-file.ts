import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { UserError, unreadableFile } from '../errors.ts';

/** A YAML (or JSON) file given on the command line, parsed; problems said plainly, with the file's name. */
export function readYamlFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw unreadableFile(file, error);
  }
  try {
    return parseYaml(text) as unknown;
  } catch (error) {
    throw new UserError(`${file} is not valid YAML or JSON: ${(error as Error).message}`);
  }
}
