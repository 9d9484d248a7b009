"""The interactive map: the folium page, its routes, and the document reader it links to."""
