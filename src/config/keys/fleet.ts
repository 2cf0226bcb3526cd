/** Keys of the fleet component. */

export const fleetKeys = {};
