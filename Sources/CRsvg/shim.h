/* librsvg (SVG rendering) and cairo (the surface it renders into), Debian librsvg2-dev, pkg-config librsvg-2.0. */
#include <librsvg/rsvg.h>
#include <cairo.h>
