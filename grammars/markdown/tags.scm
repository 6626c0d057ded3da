; Disco tags query for Markdown (tree-sitter-md 0.5, block grammar).
; Headings are section definitions named by their (inline, unparsed) text.
; The definition node is the heading itself; in the block grammar ATX
; headings are also wrapped in a `section` node spanning their content,
; setext headings are not.

(atx_heading
  heading_content: (inline) @name) @definition.section

(setext_heading
  heading_content: (paragraph
    (inline) @name)) @definition.section
