import type { FormEvent, ReactNode } from "react";
import type { ApiProblem } from "../api/client";
import { ProblemBanner } from "./ProblemBanner";
import { ProblemProvider } from "./problems";

export interface FormProps {
  /** The accessible name of the form. */
  label: string;
  /** The last answer's problem, shown beside the fields it names and in the banner. */
  problem: ApiProblem | null;
  onSubmit: () => void;
  children: ReactNode;
}

/** Form is a <form> whose <Field>s show the problem's entries beside them, with a banner for the rest. */
export function Form({ label, problem, onSubmit, children }: FormProps) {
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit();
  };
  return (
    <ProblemProvider problem={problem}>
      <form aria-label={label} onSubmit={submit} noValidate className="form">
        <ProblemBanner />
        {children}
      </form>
    </ProblemProvider>
  );
}
