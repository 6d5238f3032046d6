import { Placeholder } from "../../components";
import type { ScreenProps } from "../../routes";

/** The migration screen: a placeholder until it is built (docs/WEB.md, "Adding a screen"). */
export function MigrationScreen(_props: ScreenProps) {
  return <Placeholder title="Migration" />;
}
