/**
 * The console's static files, embedded in the binary when it is compiled: its script and style
 * sheet, and uPlot (the plots), read from the package the lock file pins. Nothing is fetched
 * from a CDN or the network.
 *
 * @module
 */
// deno-lint-ignore no-sloppy-imports -- the file is console.js itself; console.d.ts only types it for tsc
import consoleJs from "./assets/console.js" with { type: "text" };
import consoleCss from "./assets/console.css" with { type: "text" };
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };

/** One served file. */
export interface Asset {
  type: string;
  body: string;
}

const js = (body: string): Asset => ({ type: "text/javascript; charset=utf-8", body });
const css = (body: string): Asset => ({ type: "text/css; charset=utf-8", body });

/** The files under `/assets/`, by name. */
export const ASSETS: Record<string, Asset | undefined> = {
  "console.js": js(consoleJs),
  "console.css": css(consoleCss),
  "uplot.js": js(uplotJs),
  "uplot.css": css(uplotCss),
};
