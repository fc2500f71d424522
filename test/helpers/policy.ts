// Policy test utilities: the offline policy runner of the pack (policy/offline.ts), re-exported for the tests.
export { fromPlan, policyResources, runPolicies, urnOf } from "../../policy/offline";
export type { PolicyRun, TestResource, Violation } from "../../policy/offline";
