/** Keys of the flare component. */

export const flareKeys = {};
