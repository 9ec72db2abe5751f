// Step 1: the meeting types of the link.
import { h } from "../dom.js";
import { kindLabel } from "../location.js";
import { fill } from "../strings/index.js";

/** on: {choose(type), prefetch(type)} */
export function typesView({ t, types }, on) {
  if (!types.length) return [h("p", { text: t.noTypes })];
  const option = (type) => {
    const prefetch = () => on.prefetch(type);
    return h("li", {}, [
      h(
        "button",
        {
          cls: "option",
          type: "button",
          "data-meeting-type-id": type.id,
          "data-k": `t${type.id}`,
          onclick: () => on.choose(type),
          onpointerenter: prefetch,
          onpointerdown: prefetch,
          onfocus: prefetch,
        },
        [
          h("b", { text: type.name }),
          h("small", { text: [fill(t.min, { n: type.duration_minutes }), kindLabel(t, type.location)].filter(Boolean).join(" · ") }),
          type.description && h("small", { text: type.description }),
        ],
      ),
    ]);
  };
  return [h("ul", {}, types.map(option))];
}
