import { Placeholder } from "../../components";
import type { ScreenProps } from "../../routes";

/** The rules screen: a placeholder until it is built (docs/WEB.md, "Adding a screen"). */
export function RulesScreen(_props: ScreenProps) {
  return <Placeholder title="Rules" />;
}
