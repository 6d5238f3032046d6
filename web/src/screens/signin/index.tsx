import { useEffect, useRef, useState } from "react";
import { api, problemOf, unwrap, type ApiProblem } from "../../api/client";
import { Button, Field, Form, Page } from "../../components";
import { homePath } from "../../routes";
import { replaceHash } from "../../router";
import { useSession } from "../../session";

/**
 * SignInScreen signs the admin in with an API key, pasted, or with the
 * one-time code of the link `quoteflow demo` prints (#/sign-in?code=...).
 * The code leaves the address bar before anything else happens, so it is in
 * no history entry, even when the exchange fails.
 */
export function SignInScreen({ code, notice }: { code: string | null; notice?: string }) {
  const { signIn } = useSession();
  const [key, setKey] = useState("");
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const exchanged = useRef<string | null>(null);

  useEffect(() => {
    if (!code || exchanged.current === code) return;
    exchanged.current = code;
    replaceHash("/sign-in");
    setBusy(true);
    unwrap(api.POST("/v1/sign-in/exchange", { body: { code } }))
      .then(({ data }) => {
        signIn({ key: data.key, tenantId: data.tenant_id });
        replaceHash(homePath);
      })
      .catch((err: unknown) => {
        const p = problemOf(err);
        setProblem(
          p.status === 404
            ? { ...p, detail: "This sign-in link was already used or has expired. Paste the admin key that quoteflow demo printed instead." }
            : p,
        );
      })
      .finally(() => setBusy(false));
  }, [code, signIn]);

  const submit = () => {
    const k = key.trim();
    if (!k) {
      setProblem({ status: 0, type: "local", title: "", detail: "", fields: [{ location: "key", message: "Paste an API key (it starts with qf_)." }] });
      return;
    }
    setBusy(true);
    setProblem(null);
    // The key is tried before it is kept, with this request's header only.
    unwrap(api.GET("/v1/tenant", { headers: { Authorization: `Bearer ${k}` } }))
      .then(({ data }) => {
        signIn({ key: k, tenantId: data.id });
        replaceHash(homePath);
      })
      .catch((err: unknown) => {
        const p = problemOf(err);
        setProblem(p.status === 401 ? { ...p, fields: [{ location: "key", message: "This key is not valid: it does not exist or was revoked." }] } : p);
      })
      .finally(() => setBusy(false));
  };

  return (
    <Page title="Sign in">
      {notice ? <p className="banner banner--info" role="status">{notice}</p> : null}
      <Form label="Sign in" problem={problem} onSubmit={submit}>
        <Field label="API key" path="key" hint="An admin key of your tenant. It is kept in this tab only and forgotten when you sign out or close the tab.">
          {(p) => (
            <input
              {...p}
              name="key"
              type="password"
              autoComplete="off"
              spellCheck={false}
              value={key}
              onChange={(e) => setKey(e.target.value)}
            />
          )}
        </Field>
        <div className="form__actions">
          <Button type="submit" variant="primary" busy={busy}>
            Sign in
          </Button>
        </div>
      </Form>
    </Page>
  );
}
