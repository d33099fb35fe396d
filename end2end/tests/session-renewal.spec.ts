import { expect, test } from "@playwright/test";
import { AccountPage, HomePage, LoginPage, signUp } from "./pages/auth-pages";

// Access tokens on this server live 3 s; the refresh grace window is 2 s.
test.use({ baseURL: `http://127.0.0.1:${process.env.E2E_SHORT_PORT}` });

test("with 3 s access tokens the user stays logged in across 10 s of use", async ({ page }) => {
  const name = await signUp(page, "stay");
  const seen: string[] = [];
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) seen.push(frame.url());
  });
  const home = new HomePage(page);
  const account = new AccountPage(page);

  const end = Date.now() + 10_000;
  let step = 0;
  while (Date.now() < end) {
    // Typed addresses, following a link and idle time, in turn.
    if (step % 3 === 0) {
      await account.goto();
      await expect(account.thisDevice()).toHaveCount(1);
    } else if (step % 3 === 1) {
      await page.getByRole("link", { name: "Home" }).click();
      await home.expectGreets(name);
    } else {
      await page.waitForTimeout(2_500);
      await page.goto("/");
      await home.expectGreets(name);
    }
    step += 1;
  }

  expect(seen.filter((url) => url.includes("/login"))).toEqual([]);
  // The loop may end on any of its steps (the account page too): look at home.
  await page.goto("/");
  await home.expectGreets(name);
});

test("an idle open page renews its session on its own", async ({ page }) => {
  const name = await signUp(page, "idle");
  // Three access-token lifetimes without a click.
  await page.waitForTimeout(9_000);
  await expect(page).toHaveURL(/\/$/);
  // The next request needs no detour: the access cookie is fresh.
  // Sent as the page's own scripts send it: from our origin.
  const response = await page.request.post("/auth/me", {
    headers: { Accept: "application/json", "Sec-Fetch-Site": "same-origin" },
  });
  expect(response.status()).toBe(200);
  expect(await response.text()).toContain(name);
});

test("reusing a stolen old refresh cookie in a new context ends the family", async ({ page, browser, context }) => {
  const name = await signUp(page, "theft");
  const refreshOf = async () =>
    (await context.cookies()).find((c) => c.name === "authbridge_refresh");
  const stolen = await refreshOf();
  expect(stolen).toBeDefined();
  expect(stolen!.httpOnly).toBe(true);
  expect(stolen!.sameSite).toBe("Strict");
  expect(stolen!.path).toBe("/auth");

  // The open page renews before its 3 s token runs out: the stolen copy is spent.
  await expect.poll(async () => (await refreshOf())?.value, { timeout: 10_000 }).not.toBe(stolen!.value);
  // Past the 2 s grace window, the copy is plain theft.
  await page.waitForTimeout(2_500);

  const thief = await browser.newContext();
  await thief.addCookies([
    { ...stolen!, expires: -1 },
    { name: "authbridge_had_session", value: "1", domain: "127.0.0.1", path: "/" },
  ]);
  const thiefPage = await thief.newPage();
  await thiefPage.goto(`http://127.0.0.1:${process.env.E2E_SHORT_PORT}/account`);
  await expect(thiefPage).toHaveURL(/\/login\?next=%2Faccount&reason=security$|\/login\?next=\/account&reason=security$/);
  await expect(new LoginPage(thiefPage).flash()).toHaveText(
    "Your session was ended for security reasons, please log in again.",
  );
  await expect(thiefPage.locator("body")).not.toContainText(name);
  await thief.close();

  // The owner's session was that family: its open page finds out at its next
  // renewal and goes to the login page with the same message.
  await expect(page).toHaveURL(/\/login\?next=.*reason=security$/, { timeout: 10_000 });
  await expect(new LoginPage(page).flash()).toHaveText(
    "Your session was ended for security reasons, please log in again.",
  );
});
