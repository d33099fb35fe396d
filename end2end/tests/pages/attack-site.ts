import http from "node:http";
import type { AddressInfo } from "node:net";

/** A form that another site's page submits to `action` as soon as it loads. */
export interface ForgedForm {
  method: "get" | "post";
  action: string;
  fields?: Record<string, string>;
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

function autoSubmitting(form: ForgedForm): string {
  const inputs = Object.entries(form.fields ?? {})
    .map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}">`)
    .join("");
  return `<!DOCTYPE html><html><body><h1>Win a prize!</h1>
<form method="${form.method}" action="${escape(form.action)}">${inputs}</form>
<script>document.forms[0].submit()</script></body></html>`;
}

/**
 * A page on another loopback port (another origin, the same site): it serves
 * `/forge?form=<json>` as a page that auto-submits that form, and
 * `/frame?src=<url>` as a page that frames `src`.
 */
export class AttackSite {
  private constructor(private readonly server: http.Server, readonly origin: string) {}

  static async start(): Promise<AttackSite> {
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://attacker");
      let body = "<!DOCTYPE html><p>attacker's own page</p>";
      if (url.pathname === "/forge") {
        body = autoSubmitting(JSON.parse(url.searchParams.get("form") ?? "{}"));
      } else if (url.pathname === "/frame") {
        body = `<!DOCTYPE html><iframe src="${escape(url.searchParams.get("src") ?? "")}"></iframe>`;
      }
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return new AttackSite(server, `http://127.0.0.1:${port}`);
  }

  /** The page that submits `form` on load. */
  forge(form: ForgedForm): string {
    return `${this.origin}/forge?form=${encodeURIComponent(JSON.stringify(form))}`;
  }

  /** A page that frames `src`. */
  frame(src: string): string {
    return `${this.origin}/frame?src=${encodeURIComponent(src)}`;
  }

  async stop() {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
