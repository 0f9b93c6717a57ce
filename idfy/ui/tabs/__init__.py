"""The explorer's tabs, one module or package each, in page order: ``design``, ``compare``, ``train``,
``predict``, ``evidence``.

Every tab exposes ``build(ctx: idfy.ui.context.TabContext) -> None`` and is built by :func:`idfy.ui.app.build_app`
inside its ``gr.Tab``. A large tab is a package: ``layout`` creates the components, ``wiring`` connects their
events, ``handlers`` holds the functions the events call; handlers return ``{component: value}`` for what
changed (:func:`idfy.ui.tabs.keyed.keyed`). Links between tabs go through ``ctx.shared``.
"""
