import { expect, test } from "@playwright/test";
import { HomePage, LoginPage, PASSWORD, signUp } from "./pages/auth-pages";
import { FLASK_URL, FlaskPeerPage } from "./pages/flask-peer";

test("the Flask peer greets a user logged in here, and sends them here to log in again after logout", async ({
  context,
  baseURL,
}) => {
  const ours = await context.newPage();
  const name = await signUp(ours, "flask");

  // The browser sends our access cookie to the peer: same host, another port.
  const peerTab = await context.newPage();
  const peer = new FlaskPeerPage(peerTab);
  await peer.goto();
  await peer.expectGreets(name);

  await new HomePage(ours).logOut();
  await expect(ours).toHaveURL(/\/login\?reason=logged_out$/);

  await peerTab.reload();
  await expect(peerTab).toHaveURL(`${baseURL}/login?next=${encodeURIComponent(FLASK_URL)}`);
  await expect(peerTab.locator("body")).not.toContainText(name);

  const login = new LoginPage(peerTab);
  await login.ready();
  await login.logIn(name, PASSWORD);
  await peer.expectGreets(name);
});
