// The condition builder and the sortable list, shared by the workflows and rules screens.
export { ConditionBuilder, type ConditionBuilderProps } from "./ConditionBuilder";
export { Sortable, moved, type SortableProps } from "./Sortable";
export { summary, type ConditionJSON } from "./model";
