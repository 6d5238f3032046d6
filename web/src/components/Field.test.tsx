import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, test } from "vitest";
import { toProblem } from "../api/client";
import { Field } from "./Field";
import { Form } from "./Form";

afterEach(cleanup);

const problem = toProblem(422, {
  type: "urn:quoteflow:problem:validation",
  status: 422,
  detail: "validation failed: body.timezone must be an IANA timezone",
  errors: [
    { location: "body.timezone", message: "must be an IANA timezone" },
    { location: "body.quiet_hours.end", message: "must match HH:MM" },
    { location: "body.channels.email.host", message: "is required for smtp" },
    { location: "body.steps[0].email.text", message: "unknown variable", line: 3, column: 9 },
  ],
});

function Settings({ p = problem }: { p?: typeof problem | null }) {
  return (
    <Form label="Settings" problem={p} onSubmit={() => undefined}>
      <Field label="Time zone" path="body.timezone" hint="An IANA zone">
        {(c) => <input {...c} />}
      </Field>
      <Field label="Name" path="body.name">
        {(c) => <input {...c} />}
      </Field>
      <Field label="Quiet hours" path="body.quiet_hours" nested>
        {(c) => <input {...c} />}
      </Field>
      <Field label="Text" path="body.steps[0].email.text">
        {(c) => <textarea {...c} />}
      </Field>
    </Form>
  );
}

describe("Field", () => {
  test("shows the problem at its path beside its control, tied to it for assistive technology", () => {
    render(<Settings />);
    const input = screen.getByLabelText("Time zone");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    const ids = (input.getAttribute("aria-describedby") ?? "").split(" ");
    const described = ids.map((id) => document.getElementById(id)?.textContent ?? "").join(" | ");
    expect(described).toContain("An IANA zone");
    expect(described).toContain("must be an IANA timezone");
  });

  test("a field the problem does not name shows nothing and is not marked invalid", () => {
    render(<Settings />);
    const name = screen.getByLabelText("Name");
    expect(name.getAttribute("aria-invalid")).toBe("false");
    expect(name.getAttribute("aria-describedby")).toBeNull();
  });

  test("nested takes the problems inside its path; a template problem says its line and column", () => {
    render(<Settings />);
    const quiet = screen.getByLabelText("Quiet hours");
    expect(document.getElementById(quiet.getAttribute("aria-describedby")!)?.textContent).toBe("must match HH:MM");
    const text = screen.getByLabelText("Text");
    expect(document.getElementById(text.getAttribute("aria-describedby")!)?.textContent).toBe("unknown variable (line 3, column 9)");
  });

  test("the banner lists the problems no field on the form shows, with their location", () => {
    render(<Settings />);
    const banner = screen.getByRole("alert");
    expect(banner.textContent).toContain("3 fields need attention");
    expect(banner.textContent).toContain("body.channels.email.host");
    expect(banner.textContent).toContain("is required for smtp");
    expect(banner.textContent).not.toContain("must be an IANA timezone");
  });

  test("a problem without fields is the form's own message", () => {
    render(<Settings p={toProblem(412, { status: 412, detail: "the tenant changed since it was read" })} />);
    expect(screen.getByRole("alert").textContent).toBe("the tenant changed since it was read");
    expect(screen.getByLabelText("Time zone").getAttribute("aria-invalid")).toBe("false");
  });

  test("no problem, no banner", () => {
    render(<Settings p={null} />);
    expect(screen.queryByRole("alert")).toBeNull();
  });
});
