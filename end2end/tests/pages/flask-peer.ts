import { expect, type Page } from "@playwright/test";

/** The page of the Flask peer (interop/peers/flask_peer.py), another origin of the same site. */
export const FLASK_URL = `http://127.0.0.1:${process.env.E2E_FLASK_PORT}/`;

export class FlaskPeerPage {
  constructor(private readonly page: Page) {}

  readonly greeting = () => this.page.getByRole("heading", { level: 1 });

  async goto() {
    await this.page.goto(FLASK_URL);
  }

  async expectGreets(username: string) {
    await expect(this.page).toHaveURL(FLASK_URL);
    await expect(this.greeting()).toHaveText(`Hello, ${username}!`);
  }
}
