/** Keys of the intake component. */

export const intakeKeys = {};
