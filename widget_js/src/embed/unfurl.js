// Chat unfurl: inside any element with data-meetings-chat, a link to {BASE}/b/{link} in a message
// becomes the inline widget, including messages added later.
import { BASE } from "../config.js";
import { h } from "../dom.js";
import { mount } from "./mount.js";

const escaped = BASE.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const LINK = new RegExp(`^${escaped}/b/([A-Za-z0-9_-]{8,100})/?(?:[?#].*)?$`);
const TEXT_LINK = new RegExp(`${escaped}/b/[A-Za-z0-9_-]{8,100}`);

function unfurlAnchor(anchor) {
  if (anchor.hasAttribute("data-meetings-unfurled")) return;
  const match = LINK.exec(anchor.href);
  if (!match) return;
  anchor.setAttribute("data-meetings-unfurled", "");
  const widget = document.createElement("meetings-booking");
  widget.setAttribute("link", match[1]); // so that a later locale attribute draws it again in that language
  mount(widget, { link: match[1] });
  // The widget goes at the end of the message's block (a paragraph, a bubble), not mid-sentence.
  const chat = anchor.closest("[data-meetings-chat]");
  let box = anchor.parentElement;
  while (box && box !== chat && getComputedStyle(box).display.startsWith("inline")) box = box.parentElement;
  if (box && box !== chat) box.appendChild(widget);
  else anchor.insertAdjacentElement("afterend", widget);
}

/** Plain-text links become anchors first, so a message keeps its link and gets the widget. */
function linkify(scope) {
  const walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
  const texts = [];
  let node;
  while ((node = walker.nextNode())) {
    if (TEXT_LINK.test(node.data) && !node.parentElement?.closest("a,script,style,textarea")) texts.push(node);
  }
  for (let text of texts) {
    let match;
    while ((match = TEXT_LINK.exec(text.data))) {
      const link = text.splitText(match.index);
      text = link.splitText(match[0].length);
      link.replaceWith(h("a", { href: match[0], target: "_blank", rel: "noopener", text: match[0] }));
    }
  }
}

function unfurl(scope) {
  linkify(scope);
  if (scope.querySelectorAll) scope.querySelectorAll("a[href]").forEach(unfurlAnchor);
  if (scope.matches && scope.matches("a[href]")) unfurlAnchor(scope);
}

function scan(node) {
  const element = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
  if (!element) return;
  if (element.closest("[data-meetings-chat]")) unfurl(element);
  else element.querySelectorAll("[data-meetings-chat]").forEach(unfurl);
}

/** Unfurls what is on the page now and whatever is added later. */
export function watchChats() {
  new MutationObserver((records) => {
    for (const record of records) record.addedNodes.forEach(scan);
  }).observe(document.documentElement, { childList: true, subtree: true });
  scan(document.documentElement);
}
