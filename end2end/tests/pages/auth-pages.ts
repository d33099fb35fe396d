import { expect, type Page } from "@playwright/test";

/** A username no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

export const PASSWORD = "correct horse battery";

/** Waits until the WebAssembly has taken over the page (when JS is on). */
async function hydrated(page: Page, js: boolean) {
  if (js) {
    await page.locator("body[data-hydrated]").waitFor({ state: "attached" });
  }
}

export class LoginPage {
  constructor(private readonly page: Page, private readonly js = true) {}

  readonly form = () => this.page.locator("#login-form");
  readonly flash = () => this.page.locator(".flash");
  readonly error = () => this.form().locator(".form-error");
  readonly submit = () => this.form().getByRole("button");
  readonly username = () => this.form().getByLabel("Username", { exact: true });
  readonly remember = () => this.form().getByLabel("Remember my username");

  async goto(query = "") {
    await this.page.goto(`/login${query}`);
    await hydrated(this.page, this.js);
  }

  async ready() {
    await expect(this.form()).toBeVisible();
    await hydrated(this.page, this.js);
  }

  async logIn(username: string, password: string, opts: { remember?: boolean } = {}) {
    await this.username().fill(username);
    await this.form().getByLabel("Password", { exact: true }).fill(password);
    if (opts.remember !== undefined) {
      await this.remember().setChecked(opts.remember);
    }
    await this.submit().click();
  }
}

export class RegisterPage {
  constructor(private readonly page: Page, private readonly js = true) {}

  readonly form = () => this.page.locator("#register-form");
  readonly error = () => this.form().locator(".form-error");

  async goto() {
    await this.page.goto("/register");
    await hydrated(this.page, this.js);
  }

  async register(username: string, password: string) {
    await this.form().getByLabel("Username", { exact: true }).fill(username);
    await this.form().getByLabel("Password", { exact: true }).fill(password);
    await this.form().getByRole("button").click();
  }
}

export class HomePage {
  constructor(private readonly page: Page, private readonly js = true) {}

  readonly greeting = () => this.page.getByRole("heading", { level: 1 });

  async expectGreets(username: string) {
    await expect(this.greeting()).toContainText(`Hello, ${username}`);
    await hydrated(this.page, this.js);
  }

  /** Logs out and waits for the login page: the next step must not race the logout. */
  async logOut() {
    await this.page.getByRole("button", { name: "Log out" }).click();
    await expect(this.page).toHaveURL(/\/login\?/);
  }
}

/** Registers a fresh user through the form; ends on the home page, logged in. */
export async function signUp(page: Page, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  const register = new RegisterPage(page);
  await register.goto();
  await register.register(name, PASSWORD);
  await new HomePage(page).expectGreets(name);
  return name;
}

export class AccountPage {
  constructor(private readonly page: Page, private readonly js = true) {}

  readonly sessions = () => this.page.locator("li.session");
  readonly thisDevice = () => this.page.locator('li.session[data-current="true"]');
  readonly flash = () => this.page.locator(".flash");
  readonly passwordForm = () => this.page.locator("#change-password-form");
  readonly passwordError = () => this.passwordForm().locator(".form-error");

  async goto() {
    await this.page.goto("/account");
    await expect(this.page.getByRole("heading", { level: 1 })).toHaveText("Your account");
    await hydrated(this.page, this.js);
  }

  async logOutEverywhere() {
    await this.page.getByRole("button", { name: "Log out everywhere" }).click();
  }

  async changePassword(current: string, next: string) {
    await this.passwordForm().getByLabel("Current password").fill(current);
    await this.passwordForm().getByLabel("New password").fill(next);
    await this.passwordForm().getByRole("button").click();
  }
}

/** Logs an existing user in through the form; ends on the home page. */
export async function logIn(page: Page, name: string, password = PASSWORD) {
  const login = new LoginPage(page);
  await login.goto();
  await login.logIn(name, password);
  await new HomePage(page).expectGreets(name);
}
