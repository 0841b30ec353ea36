import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Mailer, OutgoingMail } from '../../domain/ports.js';

/**
 * The local runtime's and the tests' {@link Mailer}: each accepted message becomes one JSON file
 * in a directory, `<acceptedAt with ':' replaced by '-'>-<messageId>.json`, so names sort by
 * acceptance time and are valid on every file system. Files are written to a temporary name and
 * renamed, so a reader never sees a partial message. It accepts every sender and template (there
 * is nothing to verify against locally) and never delivers anything.
 *
 * It stores the {@link OutgoingMail} as is: the sending key's ID, never the key.
 */
export class OutboxMailer implements Mailer {
  constructor(readonly dir: string) {}

  /** Writes the message atomically, creating the directory if needed. */
  async send(mail: OutgoingMail): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const name = `${mail.acceptedAt.replaceAll(':', '-')}-${mail.messageId}.json`;
    const temp = join(this.dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
    await writeFile(temp, `${JSON.stringify(mail, null, 2)}\n`, { flag: 'wx' });
    await rename(temp, join(this.dir, name));
  }

  canSendFrom(_address: string): boolean {
    return true;
  }

  canUseTemplate(_templateId: string): boolean {
    return true;
  }

  /** The messages in the outbox, oldest first (empty when the directory does not exist). */
  async list(): Promise<OutgoingMail[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const files = names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
    return Promise.all(
      files.map(async (n) => JSON.parse(await readFile(join(this.dir, n), 'utf8')) as OutgoingMail),
    );
  }
}
