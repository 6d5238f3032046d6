import { Placeholder } from "../../components";
import type { ScreenProps } from "../../routes";

/** The leads screen: a placeholder until it is built (docs/WEB.md, "Adding a screen"). */
export function LeadsScreen(_props: ScreenProps) {
  return <Placeholder title="Leads" />;
}
