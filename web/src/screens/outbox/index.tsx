import { Placeholder } from "../../components";
import type { ScreenProps } from "../../routes";

/** The outbox screen: a placeholder until it is built (docs/WEB.md, "Adding a screen"). */
export function OutboxScreen(_props: ScreenProps) {
  return <Placeholder title="Outbox" />;
}
