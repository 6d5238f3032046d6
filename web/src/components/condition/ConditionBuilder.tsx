import { useState } from "react";
import { Button } from "../Button";
import { Field } from "../Field";
import {
  conditionFields,
  customPrefix,
  fromJSON,
  isList,
  newKey,
  newLeaf,
  operatorLabels,
  opsFor,
  takesValue,
  toJSON,
  withField,
  kindOf,
  type CondNode,
  type ConditionJSON,
  type GroupNode,
  type LeafNode,
  type ValueType,
} from "./model";
import "./condition.css";

/** How deep groups may nest (condition.MaxDepth). */
const maxDepth = 32;

export interface ConditionBuilderProps {
  /** The condition as the API gives it; read once, when the builder mounts (give it a key to reset). */
  value: ConditionJSON;
  /** Called with the API's JSON after every edit. */
  onChange: (c: ConditionJSON) => void;
  /** The API's location of the condition, e.g. "body.condition" or "body.when": problems show beside their part. */
  path: string;
  /** The accessible name of the whole condition. */
  label: string;
}

/**
 * ConditionBuilder edits a condition tree: all/any groups nested as deep as
 * the API allows, leaves with a field, an operator and a typed value. What
 * it emits is exactly the API's JSON (see model.ts).
 */
export function ConditionBuilder({ value, onChange, path, label }: ConditionBuilderProps) {
  const [root, setRoot] = useState<CondNode>(() => fromJSON(value));
  const update = (n: CondNode) => {
    setRoot(n);
    onChange(toJSON(n));
  };
  return (
    <fieldset className="cond cond--root">
      <legend>{label}</legend>
      {root.kind === "leaf" ? (
        <>
          <LeafEditor node={root} path={path} name="Condition 1" onChange={update} />
          <Button onClick={() => update({ kind: "all", key: newKey(), children: [root, newLeaf()] })}>Add another condition</Button>
        </>
      ) : (
        <GroupEditor node={root} path={path} num="" depth={1} onChange={update} />
      )}
    </fieldset>
  );
}

function childPath(path: string, key: "all" | "any", i: number): string {
  return `${path}.${key}[${i}]`;
}

function at(path: string, seg: string): string {
  return path === "" ? seg : `${path}.${seg}`;
}

function GroupEditor({
  node,
  path,
  num,
  depth,
  onChange,
  onRemove,
}: {
  node: GroupNode;
  path: string;
  /** The group's number ("2.1"); "" for the root. */
  num: string;
  depth: number;
  onChange: (n: CondNode) => void;
  onRemove?: () => void;
}) {
  const setChild = (i: number, c: CondNode) => onChange({ ...node, children: node.children.map((x, j) => (j === i ? c : x)) });
  const removeChild = (i: number) => onChange({ ...node, children: node.children.filter((_, j) => j !== i) });
  const add = (c: CondNode) => onChange({ ...node, children: [...node.children, c] });
  const name = num ? `Group ${num}` : "";
  const inner = (
    <>
      <Field label={name ? `${name}: match` : "Match"} path={at(path, node.kind)}>
        {(p) => (
          <select {...p} value={node.kind} onChange={(e) => onChange({ ...node, kind: e.target.value as "all" | "any" })}>
            <option value="all">all of these</option>
            <option value="any">any of these</option>
          </select>
        )}
      </Field>
      {node.children.length === 0 ? (
        <p className="cond__empty">{node.kind === "all" ? "No conditions: every lead matches." : "No conditions: no lead matches."}</p>
      ) : (
        <ul className="cond__list">
          {node.children.map((c, i) => {
            const n = num ? `${num}.${i + 1}` : `${i + 1}`;
            const p = childPath(path, node.kind, i);
            return (
              <li key={c.key}>
                {c.kind === "leaf" ? (
                  <LeafEditor node={c} path={p} name={`Condition ${n}`} onChange={(x) => setChild(i, x)} onRemove={() => removeChild(i)} />
                ) : (
                  <GroupEditor node={c} path={p} num={n} depth={depth + 1} onChange={(x) => setChild(i, x)} onRemove={() => removeChild(i)} />
                )}
              </li>
            );
          })}
        </ul>
      )}
      <div className="cond__actions">
        <Button onClick={() => add(newLeaf())}>{name ? `Add a condition to ${name.toLowerCase()}` : "Add a condition"}</Button>
        <Button disabled={depth >= maxDepth} onClick={() => add({ kind: "any", key: newKey(), children: [newLeaf()] })}>
          {name ? `Add a group to ${name.toLowerCase()}` : "Add a group"}
        </Button>
        {onRemove ? (
          <Button variant="danger" onClick={onRemove}>
            Remove {name.toLowerCase()}
          </Button>
        ) : null}
      </div>
    </>
  );
  if (!name) return <div className="cond__group">{inner}</div>;
  return (
    <fieldset className="cond cond__group">
      <legend>{name}</legend>
      {inner}
    </fieldset>
  );
}

const fieldGroups: Array<{ label: string; prefix: string }> = [
  { label: "Lead", prefix: "lead." },
  { label: "Quote", prefix: "quote." },
  { label: "Tenant", prefix: "tenant." },
];

function LeafEditor({ node, path, name, onChange, onRemove }: { node: LeafNode; path: string; name: string; onChange: (n: CondNode) => void; onRemove?: () => void }) {
  const custom = node.field.startsWith(customPrefix);
  const ops = opsFor(node.field);
  const list = isList(node.op);
  return (
    <fieldset className="cond cond__leaf">
      <legend>{name}</legend>
      <div className="cond__row">
        <Field label="Field" path={at(path, "field")}>
          {(p) => (
            <select {...p} value={custom ? customPrefix : node.field} onChange={(e) => onChange(withField(node, e.target.value === customPrefix ? customPrefix : e.target.value))}>
              {fieldGroups.map((g) => (
                <optgroup key={g.prefix} label={g.label}>
                  {conditionFields
                    .filter((f) => f.path.startsWith(g.prefix))
                    .map((f) => (
                      <option key={f.path} value={f.path}>
                        {f.path} ({f.label})
                      </option>
                    ))}
                  {g.prefix === "lead." ? <option value={customPrefix}>lead.custom.… (a custom field)</option> : null}
                </optgroup>
              ))}
            </select>
          )}
        </Field>
        {custom ? (
          <Field label="Custom field key" path={at(path, "field")} hint="lead.custom.KEY">
            {(p) => <input {...p} value={node.field.slice(customPrefix.length)} onChange={(e) => onChange({ ...node, field: customPrefix + e.target.value })} />}
          </Field>
        ) : null}
        <Field label="Operator" path={at(path, "op")}>
          {(p) => (
            <select {...p} value={node.op} onChange={(e) => onChange({ ...node, op: e.target.value as LeafNode["op"] })}>
              {ops.map((o) => (
                <option key={o} value={o}>
                  {operatorLabels[o]} ({o})
                </option>
              ))}
            </select>
          )}
        </Field>
        {takesValue(node.op) && kindOf(node.field) === "any" ? (
          <Field label="Value type" path={at(path, "value")} problem={null}>
            {(p) => (
              <select {...p} value={node.type} onChange={(e) => onChange({ ...node, type: e.target.value as ValueType })}>
                <option value="string">text</option>
                <option value="number">number</option>
                <option value="boolean">true or false</option>
              </select>
            )}
          </Field>
        ) : null}
        {takesValue(node.op) ? <ValueInput node={node} path={at(path, "value")} list={list} onChange={onChange} /> : null}
      </div>
      {onRemove ? (
        <Button variant="danger" onClick={onRemove}>
          Remove {name.toLowerCase()}
        </Button>
      ) : null}
    </fieldset>
  );
}

function ValueInput({ node, path, list, onChange }: { node: LeafNode; path: string; list: boolean; onChange: (n: CondNode) => void }) {
  const kind = kindOf(node.field);
  const hint = list
    ? "One value per line"
    : kind === "time"
      ? "An RFC 3339 time, e.g. 2026-05-01T00:00:00Z"
      : kind === "list"
        ? "A tag"
        : undefined;
  return (
    <Field label={list ? "Values" : "Value"} path={path} nested hint={hint}>
      {(p) =>
        list ? (
          <textarea {...p} rows={3} value={node.text} onChange={(e) => onChange({ ...node, text: e.target.value })} />
        ) : node.type === "boolean" ? (
          <select {...p} value={node.text} onChange={(e) => onChange({ ...node, text: e.target.value })}>
            <option value="">choose…</option>
            <option value="true">true</option>
            <option value="false">false</option>
          </select>
        ) : (
          <input
            {...p}
            inputMode={node.type === "number" ? "decimal" : undefined}
            value={node.text}
            onChange={(e) => onChange({ ...node, text: e.target.value })}
          />
        )
      }
    </Field>
  );
}
