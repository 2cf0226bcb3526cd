/** Keys of the aggregator component. */

export const aggregatorKeys = {};
