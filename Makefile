# Makefile -- the one entry point of lguest, the literate edition.
#
# The book is the source: lguest.nw plus the chapters it lists.  Everything
# else here is made from it.  The rules below are deliberately plain; the
# book's appendix on the lab's workbench (chapters/lab.nw) explains each of them.

SHELL      := /bin/bash
.DEFAULT_GOAL := all

# The chapter order lives in lguest.nw itself (its "%%CHAPTERS:" line), so
# that there is exactly one place that says which chapters make the book.
CHAPTERS   := $(shell sed -n 's/^%%CHAPTERS://p' lguest.nw)
NWFILES    := lguest.nw $(CHAPTERS)
GEN        := generated
CACHE      := $(CURDIR)/.cache
LAB        := $(CACHE)/lab

# KDIR points at a configured kernel tree (or Debian headers).  By default we
# use the Debian i386 6.1 686 headers that "make lab-fetch" unpacks.  On a
# real 32-bit machine: make KDIR=/lib/modules/$(uname -r)/build
# Tangled files that take #line directives (so compiler errors point into the
# chapters); shell scripts, makefiles and linker scripts must not get them.
LINE_FILES := %.c %.h %.S

.PHONY: all tangle weave html deps module launcher guest programs lab-fetch \
	lab-image run shell check check-static check-lab bench clean distclean sparse

# ---------------------------------------------------------------------------
# The course kit (the appendix "For instructors", chapters/course.nw): list
# the exercises, write a student's tree, grade a tree, grade a class.
COURSE := $(GEN)/lab/course
.PHONY: exercises assignment grade grade-all
exercises: deps tangle
	@perl $(COURSE)/exercises.pl
assignment: deps tangle
	@perl $(COURSE)/assignment.pl "$(CHAPTER)"
grade: deps tangle
	@perl $(COURSE)/grade.pl
grade-all: deps tangle
	@perl $(COURSE)/grade-all.pl "$(STUDENTS)" "$(CHAPTER)" $(if $(CSV),> "$(CSV)")

# ---------------------------------------------------------------------------
# Tangling: every root chunk is a file name under one of the known trees.
# Anything else that noroots reports is a mistake (a typo in a chunk name
# makes a new, unused root) and stops the build.
# The one exception: the exercises' stubs (chapters/course.nw), roots named
# "stub for EXERCISE: CHUNK", which only a student's tree uses.
# A tangled file deleted by hand is made again: the stamp goes with it.
tangle: deps
	@for f in $$(cat $(GEN)/.tangled.roots 2>/dev/null); do \
	  [ -e $(GEN)/$$f ] || { rm -f $(GEN)/.tangled; break; }; done
	@$(MAKE) -s --no-print-directory $(GEN)/.tangled
$(GEN)/.tangled: $(NWFILES) Makefile
	@mkdir -p $(GEN)
	@set -e; err=$$(mktemp); trap 'rm -f $$err' EXIT; \
	roots=$$(noroots $(NWFILES) | sed 's/^<<\(.*\)>>$$/\1/; /^stub for /d'); \
	for r in $$roots; do \
	  case "$$r" in \
	    include/*|host/*|launcher/*|guest/*|lab/*|tests/*|bench/*) ;; \
	    *) echo "tangle: unexpected root chunk <<$$r>> (a misspelt chunk name?)" >&2; exit 1;; \
	  esac; \
	  mkdir -p $(GEN)/$$(dirname $$r); \
	  case "$$r" in \
	    *.c|*.h|*.S) opt=-L;; \
	    *) opt=;; \
	  esac; \
	  notangle -t8 $$opt -R"$$r" $(NWFILES) 2>$$err | cpif $(GEN)/$$r; \
	  if [ -s $$err ]; then echo "tangle: problems in <<$$r>>:" >&2; cat $$err >&2; exit 1; fi; \
	  case "$$r" in *.sh|*.t|lab/init*) chmod +x $(GEN)/$$r;; esac; \
	done; \
	all=" $$(echo $$roots) "; \
	for o in $$(cat $@.roots 2>/dev/null); do \
	  case "$$all" in *" $$o "*) ;; \
	    *) rm -f $(GEN)/$$o; echo "tangle: removed $(GEN)/$$o (no longer in the book)";; \
	  esac; \
	done; \
	echo "$$roots" > $@.roots; touch $@
	@echo "tangle: $$(wc -l < $@.roots) files in $(GEN)/"

# ---------------------------------------------------------------------------
# Weaving: noweave writes LaTeX with chunk cross-references and an
# identifier index; latexmk runs pdflatex until the references settle.
NW_USCORE := \\makeatletter\\g@addto@macro\\setupmodname{\\catcode`\\_=12 }\\makeatother\\catcode`\\_=12
# "noweave -delay -index" spelled out as its stages, so that our filters can
# stand on both sides of finduses (which marks every defined name it sees):
# markup | filemarks | autodefs.c | fixdefs | idscope defs | finduses |
# idscope uses | noidx | idscope selfuse | totex.  book/style/filemarks marks
# where each chapter file begins; book/style/fixdefs mends the definitions
# noweb's C finder gets wrong; book/style/idscope gives every name its
# program and drops links from comments and strings (see their headers).
NWLIB     := /usr/lib/noweb
NW_INDEXED = $(NWLIB)/markup $(NWFILES) | book/style/filemarks | \
	$(NWLIB)/autodefs.c | book/style/fixdefs | \
	book/style/idscope defs | $(NWLIB)/finduses | book/style/idscope uses | \
	$(NWLIB)/noidx -delay
NW_WEAVE   = $(NW_INDEXED) | book/style/idscope selfuse | $(NWLIB)/totex -delay
weave: deps tangle book/lguest.pdf book/chapters/.made
book/lguest.pdf: $(NWFILES) $(GEN)/.tangled $(wildcard figures/*.tex) $(wildcard book/style/*) Makefile
	@mkdir -p book
	@# Two repairs to noweave's LaTeX, made just before \begin{document}:
	@# noweave -delay still emits its \nwixlogsorted lines ahead of
	@# \documentclass, so they are moved after \begin{document}; and chunk
	@# names are file names, some with underscores, which noweb.sty would
	@# read as math subscripts, so "_" is made an ordinary character.  With
	@# -delay noweave writes no \end{document} either; we add it.  Then
	@# upquotes keeps the quotes in [[quoted]] words straight, and
	@# splitbook writes book/lguest.tex and one book/ch/NAME.tex a chapter.
	@# The pipeline is set -o pipefail (SHELL is bash) so a failing stage
	@# stops the weave instead of leaving a half-written book.
	set -o pipefail; $(NW_WEAVE) | awk \
	  '/^\\nwixlogsorted/ && !d { h = h $$0 "\n"; next } \
	   /^\\begin\{document\}/ && !d { print "$(NW_USCORE)" } { print } \
	   /^\\begin\{document\}/ && !d { printf "%s", h; d = 1 } \
	   /^\\end\{document\}/ { e = 1 } END { if (!e) print "\\end{document}" }' \
	  | book/style/upquotes | book/style/splitbook book
	@# version.tex: the version (git describe) for the title page, and the
	@# number of non-blank lines of code in generated/, which the book prints
	@# (tests/03-book-code.t checks the number and finds each line).
	@v=$$(git describe --always --dirty 2>/dev/null || echo unknown); \
	  n=$$(cd $(GEN) && for f in $$(cat .tangled.roots); do \
	    case $$f in *.c|*.h|*.S) grep -v '^#line ' $$f;; *) cat $$f;; esac; \
	  done | grep -c '[^[:space:]]'); \
	  printf '\\def\\lguestversion{%s}\n\\def\\lguestcodelines{%s}\n' "$$v" "$$n" \
	    > book/version.tex.new; \
	  cmp -s book/version.tex.new book/version.tex || mv book/version.tex.new book/version.tex; \
	  rm -f book/version.tex.new
	cd book && TEXINPUTS=.:../figures:./style: latexmk -pdf -interaction=nonstopmode \
	  -halt-on-error -silent lguest.tex >/dev/null || \
	  { tail -n 40 lguest.log; exit 1; }
	@if grep -E "(Reference|Citation).*undefined|There were undefined" book/lguest.log; then \
	  echo "weave: undefined references in the book" >&2; exit 1; fi
	@echo "weave: book/lguest.pdf ($$(pdfinfo book/lguest.pdf 2>/dev/null | sed -n 's/^Pages: *//p') pages)"

# One PDF per chapter file, book/chapters/NAME.pdf, typeset from the same
# LaTeX with \includeonly{ch/NAME}.  Each starts from copies of the whole
# book's .aux files, so its references carry the book's numbers; two runs
# settle its own PDF bookmarks.
CHAPTER_NAMES := $(basename $(notdir $(CHAPTERS)))
book/chapters/.made: book/lguest.pdf
	@mkdir -p book/chapters/ch
	@cd book && for n in $(CHAPTER_NAMES); do \
	  cp ch/*.aux chapters/ch/ && cp lguest.aux chapters/$$n.aux || exit 1; \
	  for run in 1 2; do \
	    TEXINPUTS=.:../figures:./style: pdflatex -interaction=nonstopmode \
	      -halt-on-error -output-directory=chapters -jobname=$$n \
	      "\\def\\lguestonly{$$n}\\input{lguest.tex}" > /dev/null || \
	      { tail -n 30 chapters/$$n.log; echo "weave: chapters/$$n.pdf failed" >&2; exit 1; }; \
	  done; \
	  if grep -E "(Reference|Citation).*undefined" chapters/$$n.log; then \
	    echo "weave: undefined references in book/chapters/$$n.pdf" >&2; exit 1; fi; \
	done
	@touch $@
	@echo "weave: book/chapters/*.pdf ($(words $(CHAPTER_NAMES)) chapters)"

# ---------------------------------------------------------------------------
# The HTML edition: the same noweave pipeline, with the book's own back end
# (lab/html.pl, from the Testing chapter) in place of noweb's LaTeX one.  It
# takes the numbers of chapters, figures and chunks from book/lguest.aux, so
# the book is woven first.  A failed run leaves no index.html behind, so that
# the next "make html" tries again.
html: deps tangle
	@$(MAKE) --no-print-directory book/html/index.html
book/html/index.html: $(NWFILES) $(wildcard figures/*.tex) $(wildcard book/style/*) \
		book/lguest.pdf $(GEN)/lab/html.pl Makefile
	@rm -rf book/html
	@# The same stages as the weave's, up to the index; html.pl is the back
	@# end in place of totex (idscope selfuse writes LaTeX, so it is left out).
	@set -o pipefail; $(NW_INDEXED) | \
	  perl $(GEN)/lab/html.pl book/html book/lguest.aux $(CURDIR)/figures || \
	  { rm -f $@; echo "html: the HTML edition could not be written" >&2; exit 1; }

# ---------------------------------------------------------------------------
# Tools.  The build needs a few Debian packages; "make deps" says which are
# missing and why, then installs them (this is the one rule that has to live
# outside the book: without noweb there is no book to tangle).
# Each line of the table: the check, the package, and why we need it.
define DEPS_TABLE
notangle         noweb             to tangle the code out of the chapters
latexmk          latexmk           to typeset the book
pdflatex         texlive-latex-extra  LaTeX and the packages the book uses
sty:tikz.sty     texlive-pictures  the figures are drawn with TikZ
sty:hyperref.sty texlive-latex-recommended  clickable chunk references
sty:lmodern.sty  lmodern           the Latin Modern fonts the book is set in
qemu-system-i386 qemu-system-x86   the lab is a 32-bit PC emulated by QEMU
sparse           sparse            the kernel module is checked with sparse
m32              gcc-multilib      the Launcher, the Guest and the tests are 32-bit programs
cpio             cpio              to pack the lab's initramfs
xz               xz-utils          Debian's packages are xz-compressed
prove            perl              prove runs the TAP tests
pkill            procps            the lab's test harness stops a stuck QEMU
gdb              gdb               the NMI sweep stops the lab's CPUs at each Switcher instruction
pdftotext        poppler-utils     to check the text of the book's PDF
pandoc           pandoc            the HTML edition's prose is converted by pandoc
pdftocairo       poppler-utils     the HTML edition's figures are turned into SVG
sty:standalone.cls texlive-latex-extra  each figure of the HTML edition is typeset alone
chromium         chromium          the HTML edition is checked in a real browser
endef
export DEPS_TABLE

deps:
	@missing=; \
	while read -r chk pkg why; do \
	  case "$$chk" in \
	    m32) echo 'int main(void){return 0;}' | gcc -m32 -x c -o /dev/null - >/dev/null 2>&1 ;; \
	    sty:*) kpsewhich "$${chk#sty:}" >/dev/null 2>&1 ;; \
	    *) command -v "$$chk" >/dev/null 2>&1 ;; \
	  esac && continue; \
	  case " $$missing " in *" $$pkg "*) continue;; esac; \
	  echo "deps: need $$pkg: $$why"; missing="$$missing $$pkg"; \
	done <<< "$$DEPS_TABLE"; \
	[ -z "$$missing" ] && exit 0; \
	sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	if [ -n "$$sudo" ] && ! command -v sudo >/dev/null; then \
	  echo "deps: please run as root: apt-get install$$missing" >&2; exit 1; fi; \
	echo "deps: installing$$missing with apt-get (this takes a few minutes once)"; \
	$$sudo apt-get update -q >/dev/null 2>&1 || \
	  echo "deps: apt-get update reported errors; going on with the indexes it has"; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	  --no-install-recommends $$missing >/dev/null || \
	  { echo "deps: 'apt-get install$$missing' failed" >&2; exit 1; }; \
	echo "deps: installed$$missing"

# ---------------------------------------------------------------------------
# Everything else is built by the rules the Preparation chapter tangles into
# generated/build.mk: tangle first, then hand over.
BUILD_TARGETS := all module launcher guest programs lab-fetch lab-image \
	run shell check check-lab check-static bench sparse
$(BUILD_TARGETS): deps tangle
	@$(MAKE) --no-print-directory -f $(GEN)/lab/build.mk TOP=$(CURDIR) $@

clean:
	rm -rf $(GEN) book/lguest.* book/*.aux book/*.log book/ch book/chapters \
	  book/version.tex book/html

distclean: clean
	rm -rf $(CACHE)
