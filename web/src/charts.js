// ECharts, only the parts the screens use (keeps the bundle small)
import * as echarts from 'echarts/core';
import { BarChart, HeatmapChart, TreemapChart } from 'echarts/charts';
import { GridComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, HeatmapChart, TreemapChart, GridComponent, TooltipComponent, VisualMapComponent, CanvasRenderer]);
export default echarts;
