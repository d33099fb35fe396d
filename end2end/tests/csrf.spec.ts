import { expect, test, type Page } from "@playwright/test";
import { AttackSite, type ForgedForm } from "./pages/attack-site";
import { HomePage, LoginPage, PASSWORD, logIn, signUp, uniqueName } from "./pages/auth-pages";

// A logged-in user visits a page on another local port that submits forms
// to us. Every forged request is refused, nothing changes; our own pages
// keep working (the other specs use them).

let attacker: AttackSite;
test.beforeAll(async () => {
  attacker = await AttackSite.start();
});
test.afterAll(async () => {
  await attacker.stop();
});

const REFUSED = "did not come from this site";

/** Opens the attacker's page and waits until the forged form has left it
 * (for our page, or for the browser's own error page when we answer 405). */
async function visitForgery(page: Page, form: ForgedForm) {
  await page.goto(attacker.forge(form));
  await page.waitForURL((url) => !url.href.startsWith(attacker.origin));
}

test("forged posts to log out, change the password and register are refused", async ({ page, baseURL, browser }) => {
  const name = await signUp(page, "csrf");
  const planted = uniqueName("planted");

  for (const form of [
    { method: "post", action: `${baseURL}/auth/logout` },
    { method: "post", action: `${baseURL}/auth/logout_everywhere` },
    {
      method: "post",
      action: `${baseURL}/auth/change_password`,
      fields: { current_password: PASSWORD, new_password: "attacker chose this" },
    },
    { method: "post", action: `${baseURL}/auth/register`, fields: { username: planted, password: PASSWORD } },
  ] satisfies ForgedForm[]) {
    await visitForgery(page, form);
    await expect(page.locator("body"), form.action).toContainText(REFUSED);
  }

  // Still logged in, as themselves.
  await page.goto("/");
  await new HomePage(page).expectGreets(name);

  // The password is unchanged and no account was created.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await logIn(otherPage, name, PASSWORD);
  await new HomePage(otherPage).logOut();
  const login = new LoginPage(otherPage);
  await login.ready();
  await login.logIn(planted, PASSWORD);
  await expect(login.error()).toHaveText("Incorrect username or password.");
  await other.close();
});

test("forged GET requests to the same actions change nothing", async ({ page, baseURL, browser }) => {
  const name = await signUp(page, "csrfget");
  const planted = uniqueName("viaget");

  for (const form of [
    { method: "get", action: `${baseURL}/auth/logout` },
    { method: "get", action: `${baseURL}/auth/logout_everywhere` },
    {
      method: "get",
      action: `${baseURL}/auth/change_password`,
      fields: { current_password: PASSWORD, new_password: "attacker chose this" },
    },
    { method: "get", action: `${baseURL}/auth/register`, fields: { username: planted, password: PASSWORD } },
  ] satisfies ForgedForm[]) {
    await visitForgery(page, form);
  }

  await page.goto("/");
  await new HomePage(page).expectGreets(name);
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await logIn(otherPage, name, PASSWORD);
  await new HomePage(otherPage).logOut();
  const login = new LoginPage(otherPage);
  await login.ready();
  await login.logIn(planted, PASSWORD);
  await expect(login.error()).toHaveText("Incorrect username or password.");
  await other.close();
});

test("a forged login into the attacker's account is refused", async ({ page, baseURL, browser }) => {
  // The attacker's own account, made elsewhere.
  const elsewhere = await browser.newContext();
  const attackerName = await signUp(await elsewhere.newPage(), "mallory");
  await elsewhere.close();

  const name = await signUp(page, "loginCsrf");
  await visitForgery(page, {
    method: "post",
    action: `${baseURL}/auth/login`,
    fields: { username: attackerName, password: PASSWORD },
  });
  await expect(page.locator("body")).toContainText(REFUSED);

  await page.goto("/");
  await new HomePage(page).expectGreets(name);
});
