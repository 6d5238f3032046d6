import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, test, vi } from "vitest";
import { toProblem } from "../../api/client";
import { Form } from "../Form";
import { ConditionBuilder } from "./ConditionBuilder";
import type { ConditionJSON } from "./model";
import { Sortable } from "./Sortable";

afterEach(cleanup);

function last(fn: ReturnType<typeof vi.fn>): ConditionJSON {
  return fn.mock.calls[fn.mock.calls.length - 1]![0] as ConditionJSON;
}

describe("ConditionBuilder", () => {
  test("building from the catch-all gives exactly the API's JSON", () => {
    const onChange = vi.fn();
    render(<ConditionBuilder value={{ all: [] }} onChange={onChange} path="body.condition" label="Condition" />);
    fireEvent.click(screen.getByRole("button", { name: "Add a condition" }));
    const c1 = within(screen.getByRole("group", { name: "Condition 1" }));
    fireEvent.change(c1.getByLabelText("Field"), { target: { value: "quote.amount" } });
    fireEvent.change(c1.getByLabelText("Operator"), { target: { value: "gte" } });
    fireEvent.change(c1.getByLabelText("Value"), { target: { value: "2500" } });
    fireEvent.click(screen.getByRole("button", { name: "Add a group" }));
    const g2 = within(screen.getByRole("group", { name: "Group 2" }));
    fireEvent.change(g2.getByLabelText("Group 2: match"), { target: { value: "all" } });
    const c21 = within(screen.getByRole("group", { name: "Condition 2.1" }));
    fireEvent.change(c21.getByLabelText("Operator"), { target: { value: "in" } });
    fireEvent.change(c21.getByLabelText("Values"), { target: { value: "PT\nES" } });
    expect(last(onChange)).toEqual({
      all: [
        { field: "quote.amount", op: "gte", value: 2500 },
        { all: [{ field: "lead.country", op: "in", value: ["PT", "ES"] }] },
      ],
    });
  });

  test("a custom field takes its key and a value type; exists drops the value", () => {
    const onChange = vi.fn();
    render(<ConditionBuilder value={{ field: "lead.country", op: "eq", value: "PT" }} onChange={onChange} path="body.when" label="When" />);
    const c = within(screen.getByRole("group", { name: "Condition 1" }));
    fireEvent.change(c.getByLabelText("Field"), { target: { value: "lead.custom." } });
    fireEvent.change(c.getByLabelText("Custom field key"), { target: { value: "floors" } });
    fireEvent.change(c.getByLabelText("Value type"), { target: { value: "number" } });
    fireEvent.change(c.getByLabelText("Value"), { target: { value: "3" } });
    expect(last(onChange)).toEqual({ field: "lead.custom.floors", op: "eq", value: 3 });
    fireEvent.change(c.getByLabelText("Operator"), { target: { value: "exists" } });
    expect(last(onChange)).toEqual({ field: "lead.custom.floors", op: "exists" });
  });

  test("the API's problem shows beside the part it names", () => {
    const problem = toProblem(422, { status: 422, errors: [{ location: "body.condition.all[1].value", message: "gt on quote.amount needs a number" }] });
    render(
      <Form label="Rule" problem={problem} onSubmit={() => undefined}>
        <ConditionBuilder
          value={{ all: [{ field: "lead.country", op: "eq", value: "PT" }, { field: "quote.amount", op: "gt", value: "x" }] }}
          onChange={() => undefined}
          path="body.condition"
          label="Condition"
        />
      </Form>,
    );
    const value = within(screen.getByRole("group", { name: "Condition 2" })).getByLabelText("Value");
    expect(value.getAttribute("aria-invalid")).toBe("true");
    expect(within(screen.getByRole("group", { name: "Condition 1" })).getByLabelText("Value").getAttribute("aria-invalid")).toBe("false");
    expect(document.querySelector('[data-problem-for="body.condition.all[1].value"]')?.textContent).toBe("gt on quote.amount needs a number");
  });
});

describe("Sortable", () => {
  test("the move buttons report moves; the ends cannot move further", () => {
    const onMove = vi.fn();
    render(<Sortable label="Steps" items={["a", "b", "c"]} itemKey={(x) => x} itemName={(x) => `step ${x}`} onMove={onMove} render={(x) => <span>{x}</span>} />);
    expect((screen.getByRole("button", { name: "Move step a up" }) as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole("button", { name: "Move step c down" }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole("button", { name: "Move step b up" }));
    expect(onMove).toHaveBeenLastCalledWith(1, 0);
    fireEvent.click(screen.getByRole("button", { name: "Move step b down" }));
    expect(onMove).toHaveBeenLastCalledWith(1, 2);
  });
});
