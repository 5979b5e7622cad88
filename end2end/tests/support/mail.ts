// Reading the mail Palisade sent, from MailDev's HTTP API (scripts start it on :1080).
import { expect } from "@playwright/test";

const api = process.env.MAILDEV_API_URL ?? "http://127.0.0.1:1080";

export interface Mail {
  id: string;
  subject: string;
  text: string;
  html: string;
  to: { address: string }[];
  time: string;
}

/** Waits for the newest email to `to` whose subject matches, and returns it. */
export async function latestMail(to: string, subject: RegExp, after = 0): Promise<Mail> {
  let found: Mail | undefined;
  await expect
    .poll(
      async () => {
        const res = await fetch(`${api}/api/email`);
        const all = (await res.json()) as Mail[];
        found = all
          .filter((m) => m.to.some((t) => t.address.toLowerCase() === to.toLowerCase()))
          .filter((m) => subject.test(m.subject))
          .filter((m) => Date.parse(m.time) >= after)
          .sort((a, b) => Date.parse(b.time) - Date.parse(a.time))[0];
        return found !== undefined;
      },
      { timeout: 20_000, message: `an email to ${to} matching ${subject}` },
    )
    .toBe(true);
  return found!;
}

/** The first link in the mail's text that goes to `path`, as a path the browser can open. */
export function linkTo(mail: Mail, path: string): string {
  const match = mail.text.match(new RegExp(`https?://[^\\s]+${path}\\?token=[A-Za-z0-9_-]+`));
  expect(match, `a ${path} link in: ${mail.text}`).not.toBeNull();
  const url = new URL(match![0]);
  return url.pathname + url.search;
}
