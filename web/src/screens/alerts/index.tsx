import { Placeholder } from "../../components";
import type { ScreenProps } from "../../routes";

/** The alerts screen: a placeholder until it is built (docs/WEB.md, "Adding a screen"). */
export function AlertsScreen(_props: ScreenProps) {
  return <Placeholder title="Alerts" />;
}
