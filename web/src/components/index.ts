// The shared components every screen builds on (docs/WEB.md).
export { Button, type ButtonProps } from "./Button";
export { Field, type FieldProps, type ControlProps } from "./Field";
export { Form, type FormProps } from "./Form";
export { Notice, ProblemBanner } from "./ProblemBanner";
export { Page, Placeholder } from "./Page";
export { Table, type Column, type TableProps } from "./Table";
export { ProblemProvider } from "./problems";
