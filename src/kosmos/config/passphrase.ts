// Where passphrases and pasted secrets come from: the environment, or a prompt with echo off when a
// person is at a terminal. Never from argv, which any user of the machine can read in `ps`.
import { ValidationError } from "../../core/index.js";
import type { PassphraseSource } from "./store.js";

/** Read a line from the terminal without echoing it. */
export async function promptHidden(question: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Promise<string> {
  output.write(question);
  const wasRaw = input.isRaw;
  input.setRawMode?.(true);
  input.resume();
  input.setEncoding("utf8");
  return new Promise<string>((resolve, reject) => {
    let buf = "";
    const done = (err?: Error) => {
      input.off("data", onData);
      input.setRawMode?.(wasRaw);
      input.pause();
      output.write("\n");
      if (err) reject(err); else resolve(buf);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") return done();
        if (ch === "\u0003") return done(new ValidationError("cancelled"));
        if (ch === "\u007f" || ch === "\b") buf = buf.slice(0, -1);
        else buf += ch;
      }
    };
    input.on("data", onData);
  });
}

export function passphraseSource(env: NodeJS.ProcessEnv = process.env, stdin: NodeJS.ReadStream = process.stdin): PassphraseSource {
  return async ({ confirm }) => {
    const fromEnv = env.KOSMOS_PASSPHRASE;
    if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
    if (!stdin.isTTY) {
      throw new ValidationError("no passphrase for the encrypted config", "set KOSMOS_PASSPHRASE, or run the command at a terminal to be prompted");
    }
    const first = await promptHidden(confirm ? "New passphrase for the kosmos secrets: " : "Passphrase: ", stdin);
    if (!first) throw new ValidationError("an empty passphrase cannot protect secrets");
    if (confirm) {
      const again = await promptHidden("Repeat the passphrase: ", stdin);
      if (again !== first) throw new ValidationError("the two passphrases differ; nothing was saved");
    }
    return first;
  };
}

/** A secret the user pastes: all of stdin when it is piped, or a hidden prompt at a terminal. */
export async function readSecretInput(question: string, stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (stdin.isTTY) return promptHidden(question, stdin);
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === "string" ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString("utf8").trim();
}
