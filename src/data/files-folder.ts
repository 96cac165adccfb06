import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError, UserError } from '../errors.ts';

/**
 * The files folder (`<BATON_DATA_DIR>/files`): the CSV files that campaigns load (load-file). Files are
 * put there by the API, the CLI, or by hand; names are plain file names, so nothing outside the folder
 * can be named, listed or replaced.
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export interface StoredFile {
  name: string;
  size: number;
  modifiedAt: string;
}

export function filesFolder(dataDir: string): string {
  return path.join(dataDir, 'files');
}

function fileIn(folder: string, name: string): string {
  if (!NAME.test(name) || name.includes('..'))
    throw new UserError(
      `"${name}" is not a file name Baton keeps: use letters, digits, ".", "_" and "-" (at most 200 characters, no folders).`,
    );
  return path.join(folder, name);
}

export async function listFiles(folder: string): Promise<StoredFile[]> {
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files: StoredFile[] = [];
  for (const entry of entries) {
    // Uploads in progress are hidden files; folders made by hand are not listed.
    if (!entry.isFile() || entry.name.startsWith('.')) continue;
    const info = await stat(path.join(folder, entry.name));
    files.push({ name: entry.name, size: info.size, modifiedAt: info.mtime.toISOString() });
  }
  return files.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Puts a file in the folder under `name`, replacing one of that name: `write` fills a hidden temporary
 * file, which is then renamed, so a run loading the file reads the old one or the new one, never half.
 */
export async function storeFile(
  folder: string,
  name: string,
  write: (temporary: string) => Promise<void>,
): Promise<StoredFile> {
  const target = fileIn(folder, name);
  await mkdir(folder, { recursive: true });
  const temporary = path.join(folder, `.upload-${process.pid}-${Date.now()}-${name}`);
  try {
    await write(temporary);
    await rename(temporary, target);
  } finally {
    await rm(temporary, { force: true });
  }
  const info = await stat(target);
  return { name, size: info.size, modifiedAt: info.mtime.toISOString() };
}

/** Copies a file of the machine into the folder (the CLI). */
export function addFile(folder: string, source: string, name = path.basename(source)): Promise<StoredFile> {
  return storeFile(folder, name, async (temporary) => {
    try {
      await copyFile(source, temporary);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(`No file ${source}.`);
      throw error;
    }
  });
}

export async function deleteFile(folder: string, name: string): Promise<void> {
  const file = fileIn(folder, name);
  try {
    await rm(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new NotFoundError(`No file ${name} in the files folder.`);
    throw error;
  }
}
