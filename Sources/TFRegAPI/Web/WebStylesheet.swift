/// `/static/tfreg.css`: the one stylesheet, served by the binary (the CSP allows no inline style).
/// Light and dark by `prefers-color-scheme`; one column below 40em; contrast at least 4.5:1 for text.
enum WebStylesheet {
    static let bytes: [UInt8] = Array(css.utf8)
    static let etag = "\"tfreg-css-2\""

    static let css = """
        :root { --bg: #ffffff; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --accent: #0550ae;
          --code: #f3f5f7; --warn-bg: #fff4e5; --warn-fg: #7a3e00; --bad: #b3261e; }
        @media (prefers-color-scheme: dark) {
          :root { --bg: #0f1216; --fg: #e6edf3; --muted: #9aa6b2; --line: #30363d; --accent: #79b8ff;
            --code: #1b2129; --warn-bg: #3a2a12; --warn-fg: #ffd8a8; --bad: #ff8a80; }
        }
        * { box-sizing: border-box; }
        html { -webkit-text-size-adjust: 100%; }
        body { margin: 0; background: var(--bg); color: var(--fg); line-height: 1.5;
          font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
        a { color: var(--accent); }
        a:focus-visible, button:focus-visible, input:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
        header.site { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; justify-content: space-between;
          padding: .75rem 1rem; border-bottom: 1px solid var(--line); }
        header.site .brand { font-weight: 700; font-size: 1.2rem; text-decoration: none; color: var(--fg); }
        header.site nav { display: flex; gap: .75rem; align-items: center; flex-wrap: wrap; }
        .who { color: var(--muted); font-size: .9rem; overflow-wrap: anywhere; }
        main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
        h1 { font-size: 1.6rem; margin: .5rem 0 1rem; overflow-wrap: anywhere; }
        h1 .version { color: var(--muted); font-weight: 400; }
        h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
        form.inline { display: inline; }
        form.search, form.login { display: flex; flex-wrap: wrap; gap: .75rem; align-items: flex-end; margin-bottom: 1rem; }
        .field { display: flex; flex-direction: column; gap: .25rem; flex: 1 1 12rem; }
        label { font-weight: 600; font-size: .9rem; }
        input { font: inherit; padding: .45rem .6rem; border: 1px solid var(--line); border-radius: 6px;
          background: var(--bg); color: var(--fg); min-width: 0; }
        button { font: inherit; padding: .45rem 1rem; border: 1px solid var(--accent); border-radius: 6px;
          background: var(--accent); color: var(--bg); cursor: pointer; }
        header.site button { background: transparent; color: var(--accent); padding: .2rem .6rem; }
        .table-wrap { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; font-size: .95rem; }
        th, td { text-align: left; vertical-align: top; padding: .45rem .6rem; border-bottom: 1px solid var(--line); }
        th { color: var(--muted); font-weight: 600; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        td code { overflow-wrap: anywhere; }
        code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .9em; }
        code { background: var(--code); padding: .1em .3em; border-radius: 4px; }
        pre { background: var(--code); padding: .75rem 1rem; border-radius: 6px; overflow-x: auto; }
        pre code { background: none; padding: 0; }
        .badge { display: inline-block; margin-left: .4rem; padding: 0 .4rem; border-radius: 999px; font-size: .75rem;
          border: 1px solid var(--line); color: var(--muted); }
        .badge.deprecated { border-color: var(--warn-fg); color: var(--warn-fg); }
        .deprecation { background: var(--warn-bg); color: var(--warn-fg); padding: .75rem 1rem; border-radius: 6px; margin: 1rem 0; }
        .problem { color: var(--bad); }
        .note, .none, .empty, .lead, .crumbs { color: var(--muted); }
        .lead { font-size: 1.1rem; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 1rem 0; }
        dl.facts dt { color: var(--muted); }
        dl.facts dd { margin: 0; overflow-wrap: anywhere; }
        nav.versions ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .5rem; }
        nav.versions li a, nav.versions li span { display: inline-block; padding: .15rem .6rem; border: 1px solid var(--line); border-radius: 999px; }
        nav.versions .current { background: var(--code); font-weight: 600; }
        .readme { border: 1px solid var(--line); border-radius: 6px; padding: .5rem 1rem; margin: 1rem 0; overflow-wrap: anywhere; }
        .readme blockquote { margin: .5rem 0; padding-left: 1rem; border-left: 3px solid var(--line); color: var(--muted); }
        ul.resources { columns: 2 18rem; }
        .pager { display: flex; gap: 1rem; margin: 1rem 0; }
        @media (max-width: 40em) {
          main { padding: .75rem; }
          h1 { font-size: 1.3rem; }
          dl.facts { grid-template-columns: 1fr; }
          table.modules thead { display: none; }
          table.modules tr { display: block; border-bottom: 1px solid var(--line); padding: .5rem 0; }
          table.modules td { display: block; border: 0; padding: .1rem 0; }
          table.modules td.num { text-align: left; }
          table.modules td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); }
          table.modules td[data-label]:empty { display: none; }
        }

        """
}
