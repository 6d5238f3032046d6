import { Placeholder } from "../../components";
import type { ScreenProps } from "../../routes";

/** The workflows screen: a placeholder until it is built (docs/WEB.md, "Adding a screen"). */
export function WorkflowsScreen(_props: ScreenProps) {
  return <Placeholder title="Workflows" />;
}
