import { useEffect, useRef, useState } from "react";
import { api, unauthorizedEvent } from "./api/client";
import { Button, Page } from "./components";
import { homePath, matchRoute, navFor, routes } from "./routes";
import { href, navigate, replaceHash, useHashLocation } from "./router";
import { SignInScreen } from "./screens/signin";
import { useSession } from "./session";

/** App is the shell: the banner with the tenant and sign-out, the navigation, and the current screen. */
export function App() {
  const loc = useHashLocation();
  const { session, signOut } = useSession();
  const [notice, setNotice] = useState<string | undefined>();
  const [tenantName, setTenantName] = useState<string>("");
  const main = useRef<HTMLElement>(null);

  useEffect(() => {
    const refused = () => {
      signOut();
      setNotice("The API refused the key (revoked or unknown). Sign in again.");
    };
    window.addEventListener(unauthorizedEvent, refused);
    return () => window.removeEventListener(unauthorizedEvent, refused);
  }, [signOut]);

  useEffect(() => {
    if (!session) {
      setTenantName("");
      return;
    }
    setNotice(undefined);
    let live = true;
    void api.GET("/v1/tenant").then((r) => {
      if (live && r.data) setTenantName(r.data.name);
    });
    return () => {
      live = false;
    };
  }, [session]);

  const code = loc.path === "/sign-in" ? loc.query.get("code") : null;
  let content;
  if (!session || loc.path === "/sign-in") {
    content = session && !code ? <Redirect to={homePath} /> : <SignInScreen code={code} notice={notice} />;
  } else if (loc.path === "/") {
    content = <Redirect to={homePath} />;
  } else {
    const m = matchRoute(loc.path);
    content = m ? (
      <m.route.screen params={m.params} query={loc.query} />
    ) : (
      <Page title="Not found">
        <p>
          There is no screen at <code>{loc.path}</code>. <a href={href(homePath)}>Go to the workflows</a>.
        </p>
      </Page>
    );
  }
  const current = navFor(loc.path);
  const nav = useRef<HTMLElement>(null);
  // On a narrow screen the navigation scrolls sideways: keep the current
  // screen's link in view.
  useEffect(() => {
    nav.current?.querySelector('[aria-current="page"]')?.scrollIntoView?.({ block: "nearest", inline: "nearest" });
  }, [current]);

  return (
    <div className="shell">
      <button type="button" className="skip-link" onClick={() => main.current?.focus()}>
        Skip to content
      </button>
      <header className="shell__banner">
        <span className="brand">quoteflow</span>
        {session ? (
          <div className="shell__who">
            {tenantName ? <span className="shell__tenant">{tenantName}</span> : null}
            <Button
              onClick={() => {
                signOut();
                setNotice("Signed out. The key is no longer kept in this tab.");
                navigate("/sign-in");
              }}
            >
              Sign out
            </Button>
          </div>
        ) : null}
      </header>
      {session ? (
        <nav className="shell__nav" aria-label="Main" ref={nav}>
          <ul>
            {routes
              .filter((r) => r.nav)
              .map((r) => (
                <li key={r.path}>
                  <a href={href(r.path)} aria-current={current === r ? "page" : undefined}>
                    {r.title}
                  </a>
                </li>
              ))}
          </ul>
        </nav>
      ) : null}
      <main id="main" className="shell__main" tabIndex={-1} ref={main}>
        {content}
      </main>
    </div>
  );
}

/** Redirect replaces the address with to, without a history entry. */
function Redirect({ to }: { to: string }) {
  useEffect(() => replaceHash(to), [to]);
  return null;
}
