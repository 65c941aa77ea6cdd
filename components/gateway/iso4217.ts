// The ISO 4217 set moved to the config layer, which refuses non-ISO `allow` entries at the edge
// (issue 12); re-exported so the tool policy keeps its import.
export { ISO_4217_CODES } from "../../config/iso4217";
