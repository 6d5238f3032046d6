import { useEffect, useRef, type ReactNode } from "react";

/**
 * Page is a screen's heading and body. The heading takes focus when the
 * screen opens, so that keyboard and screen-reader users land on the new
 * content after following a navigation link.
 */
export function Page({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · quoteflow`;
    heading.current?.focus();
  }, [title]);
  return (
    <section className="page" aria-labelledby="page-title">
      <header className="page__header">
        <h1 id="page-title" tabIndex={-1} ref={heading}>
          {title}
        </h1>
        {actions ? <div className="page__actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

/** Placeholder is the body of a screen that is not built yet. */
export function Placeholder({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <Page title={title}>
      <p className="placeholder">{children ?? "This screen is coming soon."}</p>
    </Page>
  );
}
